"""Ledgerline project package: settings, urls, Celery app and cross-cutting helpers."""

from backoffice.celery import app as celery_app

__all__ = ["celery_app"]
