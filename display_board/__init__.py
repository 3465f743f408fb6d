"""The board program: calls on the big screen, spoken calls, window LEDs, rating pads (issue 6)."""
