"""What a view is, for the decorators that wrap one (`web.ui.guard.login_required`,
`web.api_support.authenticated`, ...): typed, so that a wrapped view keeps its route's
arguments and its result stays one Flask can answer with."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeAlias, TypeVar

from flask.typing import ResponseReturnValue

P = ParamSpec("P")
# A view as Flask calls it: its route's arguments in, anything Flask turns into a response out.
View: TypeAlias = Callable[P, ResponseReturnValue]
# A view a decorator hands back as it is (only marked).
AnyView = TypeVar("AnyView", bound=Callable[..., ResponseReturnValue])
