"""The demo portfolio that ``make demo`` loads: the book itself
(``portfolio``), then one example of every feature (``features``,
``small_balances``). Used by ``seed_demo`` only; nothing in production code
imports it."""

from cases.demo.portfolio import DEMO_PASSWORD, build_demo_portfolio, demo_exists  # noqa: F401
