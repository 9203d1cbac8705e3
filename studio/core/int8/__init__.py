"""int8 that still plays: measuring and repairing what post-training quantisation breaks."""
