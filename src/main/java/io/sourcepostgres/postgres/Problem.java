package io.sourcepostgres.postgres;

import java.util.Objects;

/**
 * Something that keeps a capture from starting, written for the person who must fix it.
 *
 * @param what what is wrong, as one sentence without the final period
 * @param fix  what to do about it: the SQL to run or the setting to change; empty when {@code what} already says
 */
public record Problem(String what, String fix) {
    public Problem {
        Objects.requireNonNull(what, "what");
        fix = fix == null ? "" : fix;
    }

    public String message() {
        return fix.isEmpty() ? what : what + ". " + fix;
    }

    @Override
    public String toString() {
        return message();
    }
}
