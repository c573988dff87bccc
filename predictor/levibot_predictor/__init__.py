"""levibot_predictor."""
