"""Apps that run on a tenant's model: specs, inputs, checks, runs."""
