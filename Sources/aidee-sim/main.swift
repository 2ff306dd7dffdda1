import AiDeeSimulator

print("aidee-sim: not assembled yet (see issue 3)")
