package ferry.transfer;

/** One object that could not be transferred or checked, and why. */
public record Failure(String key, String reason) {
    static Failure of(String key, Exception error) {
        String message = error.getMessage() == null ? error.toString() : error.getMessage();
        return new Failure(key, message);
    }
}
