"""Risk scoring: features per debt as of a date (``features``) and a
transparent logistic-regression model with its back-test (``model``)."""
