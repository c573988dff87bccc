"""Predictor HTTP layer: the app factory, the edge middleware, the prediction door, request
parsing, response and error rendering, and the OpenAPI shapes."""
