// Camera: the FrameSource protocol, V4L2 capture and replayed sources.
