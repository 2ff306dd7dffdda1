// KioskCore: the check-in pipeline, its state machine, decision policy and configuration.
