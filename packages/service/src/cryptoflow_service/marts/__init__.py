"""The cold path's marts (`mart.*`, created by `cryptoflow-batch` migrations), read by unmanaged models."""
