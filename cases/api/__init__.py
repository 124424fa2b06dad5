"""REST API for policies, creditors, products, debts, payments and cases (DESIGN.md, Contracts)."""
