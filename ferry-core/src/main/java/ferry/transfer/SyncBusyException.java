package ferry.transfer;

import java.io.IOException;

/** Another run of the same sync (same source and destination) holds its lock; the message names that run. */
public final class SyncBusyException extends IOException {
    SyncBusyException(String message) {
        super(message);
    }
}
