"""The product catalog: what each product is called and costs, changed without code."""
