package io.sourcepostgres.failpoints;

/** Thrown at a failpoint switched on with {@code throw}: a failure that exists only because a test asked for it. */
public final class FailpointException extends RuntimeException {
    public FailpointException(String name) {
        super("failpoint " + name + " was switched on with 'throw'");
    }
}
