"""rich renderables: adapters around core values, one theme."""
