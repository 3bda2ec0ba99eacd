package ferry.transfer;

/** Hears about each object as a transfer or scan goes, for progress display; called from many threads. */
public interface TransferListener {
    TransferListener NONE = new TransferListener() {};

    /** One object was done (copied, or read and checked), with its size. */
    default void objectDone(String key, long bytes) {}

    /** One object failed; the run goes on with the others. */
    default void objectFailed(String key, Exception error) {}
}
