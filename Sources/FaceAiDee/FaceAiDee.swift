// FaceAiDee: the Face AiDee API client over libcurl, with a self-managing token.
