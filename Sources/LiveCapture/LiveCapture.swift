// LiveCapture module.
