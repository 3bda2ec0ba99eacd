package ferry.store;

/** The bytes of an object do not have the checksum that was recorded or announced for them. */
public final class ChecksumMismatchException extends StoreException {
    public ChecksumMismatchException(Location location, String kind, String expected, String actual) {
        super(location, kind + " mismatch for " + location + ": expected " + expected + ", got " + actual);
    }
}
