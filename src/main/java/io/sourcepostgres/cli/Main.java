package io.sourcepostgres.cli;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.FailureType;
import io.sourcepostgres.airbyte.RedactingLogHandler;
import io.sourcepostgres.airbyte.Secrets;
import io.sourcepostgres.airbyte.StdoutFailedException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import picocli.CommandLine;

/**
 * Entry point: parses the command line, runs one command, and turns any failure into exactly one
 * TRACE ERROR followed by a non-zero exit. Nothing but Airbyte messages ever reaches stdout.
 */
public final class Main {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;

    private Main() {}

    public static void main(String[] args) {
        // Messages go straight to file descriptor 1, not through System.out: a PrintStream would add a buffer
        // and swallow write errors, so a reader that went away would go unnoticed.
        FileOutputStream realStdout = new FileOutputStream(FileDescriptor.out);
        System.out.flush();
        // Anything a library prints to System.out would corrupt the protocol stream: send it to stderr.
        System.setOut(System.err);
        Secrets secrets = new Secrets();
        routeJavaLogging(secrets);
        int code;
        try {
            code = run(args, realStdout, secrets);
        } catch (StdoutFailedException e) {
            System.err.println(e.explanation());
            code = EXIT_FAILED;
        }
        System.exit(code);
    }

    public static int run(String[] args, OutputStream stdout) {
        return run(args, stdout, new Secrets());
    }

    private static int run(String[] args, OutputStream stdout, Secrets secrets) {
        try (AirbyteOutput out = new AirbyteOutput(stdout, secrets)) {
            return run(args, out);
        }
    }

    /**
     * pgjdbc logs through java.util.logging, whose default console handler would print to stderr whatever a
     * driver message holds. Replace it: warnings and errors only, with every password of this run removed.
     */
    static void routeJavaLogging(Secrets secrets) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        root.setLevel(Level.WARNING);
        root.addHandler(new RedactingLogHandler(secrets, System.err));
    }

    static int run(String[] args, AirbyteOutput out) {
        Thread.setDefaultUncaughtExceptionHandler((thread, e) ->
                out.log(io.sourcepostgres.airbyte.LogLevel.ERROR, "Uncaught failure in thread " + thread.getName(), e));
        CommandLine cli = new CommandLine(new RootCommand(), new CommandFactory(out));
        PrintWriter stderr = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        cli.setOut(stderr);
        cli.setErr(stderr);
        cli.setParameterExceptionHandler((ex, argv) -> {
            out.traceError(FailureType.CONFIG_ERROR, "Bad command line: " + ex.getMessage()
                    + ". Usage: source-postgres spec | check --config FILE | discover --config FILE"
                    + " | read --config FILE --catalog FILE [--state FILE]", null, null);
            return EXIT_FAILED;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            StdoutFailedException stdoutFailed = stdoutFailure(ex);
            if (stdoutFailed == null) {
                try {
                    report(out, ex);
                    return EXIT_FAILED;
                } catch (StdoutFailedException e) {
                    stdoutFailed = e;
                }
            }
            // Nothing more can be said on stdout: one line on stderr instead.
            System.err.println(stdoutFailed.explanation());
            return EXIT_FAILED;
        });
        return cli.execute(args);
    }

    static void report(AirbyteOutput out, Throwable ex) {
        ConnectorException ce = unwrap(ex);
        if (ce != null) {
            out.traceError(ce.failureType(), ce.getMessage(), ce.getCause(), null);
        } else {
            out.traceError(FailureType.SYSTEM_ERROR, "Unexpected failure (a bug in the connector; please report it): "
                    + ex, ex, null);
        }
    }

    private static StdoutFailedException stdoutFailure(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof StdoutFailedException s) {
                return s;
            }
        }
        return null;
    }

    private static ConnectorException unwrap(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof ConnectorException ce) {
                return ce;
            }
        }
        return null;
    }

    /** Gives every command the one stdout writer of this run. */
    private record CommandFactory(AirbyteOutput out) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> cls) throws Exception {
            for (var ctor : cls.getDeclaredConstructors()) {
                if (ctor.getParameterCount() == 1 && ctor.getParameterTypes()[0] == AirbyteOutput.class) {
                    ctor.setAccessible(true);
                    return cls.cast(ctor.newInstance(out));
                }
            }
            return CommandLine.defaultFactory().create(cls);
        }
    }
}
