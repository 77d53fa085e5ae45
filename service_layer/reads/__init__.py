"""What the pages show, read in one transaction each: the customer's orders and
credentials (`pages`), the shop (`shop`), the staff inboxes (`inbox`) and the analysts'
process views (`analyst`). Plain data out; no Flask."""
