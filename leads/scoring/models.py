"""Models of the scoring app (model versions, settings); see leads/models.py for scores."""
