//! Placeholder: the JNI layer has not landed yet.
