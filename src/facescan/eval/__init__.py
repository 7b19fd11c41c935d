"""Evaluation: run a backend over a data set reader, save predictions, compute metrics."""
