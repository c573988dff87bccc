"""levibot_common.stats: the statistics the canary gates stand on (shared core, pure).

numpy and the standard library only (the operator image has no scipy). Modules, bottom up:
``results`` (frozen result values and verdicts), ``blocks`` (time-block means: the unit of
independence for overlapping outcomes), ``sequential`` (fixed-n and anytime-valid intervals;
non-inferiority), ``agreement`` (label-free stage 1 against the retraining-noise envelope),
``calibration`` (ECE with a block bootstrap, and a block-based calibration test),
``proportions`` (Wilson interval). Each module's docstring states its mathematics and sources.
"""
