// Imaging: pixel buffers, JPEG coding through TurboJPEG, colour conversion, crop and resize.
