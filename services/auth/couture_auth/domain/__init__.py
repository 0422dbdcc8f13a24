"""Pure auth domain: the user directory as a fold of ``auth`` events."""
