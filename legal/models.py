"""Legal matters (issue: Legal). Empty until that work lands."""
