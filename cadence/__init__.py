"""The 12-4-2-1 service cadence: yearly targets of themed interactions, allocation reviews,
face-to-face meetings and the written report per customer, progress and planned calls."""
