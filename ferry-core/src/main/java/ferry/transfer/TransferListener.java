package ferry.transfer;

import ferry.store.PassedOver;

/** Hears about each object as a transfer or scan goes, for progress display; called from many threads. */
public interface TransferListener {
    TransferListener NONE = new TransferListener() {};

    /** One object was done (copied, or read and checked), with its size. */
    default void objectDone(String key, long bytes) {}

    /** One object failed; the run goes on with the others. */
    default void objectFailed(String key, Exception error) {}

    /** An entry of the source that is not an object was passed over, once the listing had gone past it. */
    default void passedOver(PassedOver entry) {}
}
