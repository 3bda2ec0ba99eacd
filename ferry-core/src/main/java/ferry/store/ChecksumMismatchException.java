package ferry.store;

/** The bytes of an object do not have the checksum that was recorded or announced for them. */
public final class ChecksumMismatchException extends StoreException {
    private final String expected;
    private final String actual;

    public ChecksumMismatchException(Location location, String kind, String expected, String actual) {
        this(kind + " mismatch for " + location + ": expected " + expected + ", got " + actual, location, expected,
                actual);
    }

    private ChecksumMismatchException(String message, Location location, String expected, String actual) {
        super(location, message);
        this.expected = expected;
        this.actual = actual;
    }

    /**
     * The mismatch a destination found while {@code source} was copied to it, blamed on the source, whose recorded
     * checksum its bytes did not match; nothing was written.
     */
    public ChecksumMismatchException copying(Location source) {
        return new ChecksumMismatchException("the bytes read from " + source + " do not match the CRC32C it"
                + " recorded (" + expected + ", read " + actual + "), so nothing was written to " + location()
                + ": the object may be damaged, or have changed while it was read; copy again, and if it fails again,"
                + " check it (ferry dataset verify)", source, expected, actual);
    }
}
