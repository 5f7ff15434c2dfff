"""The integration API: keys, the /api/v1 toolkit and OpenAPI document, member endpoints, webhooks."""
