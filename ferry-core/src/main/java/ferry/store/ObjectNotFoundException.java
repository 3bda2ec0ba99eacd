package ferry.store;

/** There is no object (or no bucket) at a location. */
public final class ObjectNotFoundException extends StoreException {
    public ObjectNotFoundException(Location location) {
        super(location, "not found: " + location);
    }

    public ObjectNotFoundException(Location location, String message) {
        super(location, message);
    }
}
