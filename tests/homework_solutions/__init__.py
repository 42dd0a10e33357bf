"""Reference solutions of the homework notebooks (homework/): not handed out to students."""
