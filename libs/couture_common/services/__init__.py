"""Helpers every service's adapters share: merged polling of several consumers."""
