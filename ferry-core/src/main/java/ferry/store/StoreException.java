package ferry.store;

import java.io.IOException;

/** A store failure; the message names the location at fault and, where possible, what to do about it. */
public class StoreException extends IOException {
    private final Location location;

    public StoreException(Location location, String message) {
        this(location, message, null);
    }

    public StoreException(Location location, String message, Throwable cause) {
        super(message, cause);
        this.location = location;
    }

    /** The location at fault, or {@code null} when the failure is not about one location. */
    public Location location() {
        return location;
    }
}
