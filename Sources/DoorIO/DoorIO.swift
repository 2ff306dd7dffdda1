// DoorIO: relay, LEDs, buzzer and door inputs over libgpiod 1.6.
