"""The lesson engine: a lesson played on a stage, exercises checked, a class graded and scored."""
