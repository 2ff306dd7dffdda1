// AiDeeSimulator: a local Face AiDee-compatible server with real face matching.
