"""hypothesis fuzzing of odd texts: the strategies (texts.py) and the profiles and checks (profiles.py)."""
