# Hostile: never binds, never ends (the grader's time limits end it).
while True:
    pass
