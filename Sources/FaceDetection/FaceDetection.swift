// FaceDetection: YuNet through OpenCV cv::dnn, face quality and best-frame selection.
