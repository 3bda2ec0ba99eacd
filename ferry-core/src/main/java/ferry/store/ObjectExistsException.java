package ferry.store;

/** An exclusive create found an object already at its location. */
public final class ObjectExistsException extends StoreException {
    public ObjectExistsException(Location location) {
        super(location, "already exists: " + location);
    }

    public ObjectExistsException(Location location, String message) {
        super(location, message);
    }
}
