package org.zksession;

import org.junit.runner.Description;
import org.junit.runner.JUnitCore;
import org.junit.runner.Request;
import org.junit.runner.Result;
import org.junit.runner.notification.Failure;
import org.junit.runner.notification.RunListener;

/**
 * Runs JUnit 4 test classes, printing one line per test and a last line
 * {@code N passed, M failed}. Exits non-zero if any test failed.
 */
public final class RunTests {
    private RunTests() {
    }

    /**
     * @param args fully qualified test class names; {@code Class#method} runs one test
     * @throws ClassNotFoundException if a class is missing
     */
    public static void main(String[] args) throws ClassNotFoundException {
        Request request;
        if (args.length == 1 && args[0].contains("#")) {
            String[] cm = args[0].split("#", 2);
            request = Request.method(Class.forName(cm[0]), cm[1]);
        } else {
            Class<?>[] classes = new Class<?>[args.length];
            for (int i = 0; i < args.length; i++) {
                classes[i] = Class.forName(args[i]);
            }
            request = Request.classes(classes);
        }
        JUnitCore core = new JUnitCore();
        core.addListener(new RunListener() {
            private boolean failed;

            @Override
            public void testStarted(Description d) {
                failed = false;
            }

            @Override
            public void testFailure(Failure f) {
                failed = true;
                System.out.println("FAIL " + f.getDescription().getDisplayName());
                System.out.println(f.getTrace());
            }

            @Override
            public void testFinished(Description d) {
                if (!failed) {
                    System.out.println("ok   " + d.getDisplayName());
                }
            }
        });
        Result r = core.run(request);
        int failed = r.getFailureCount();
        int passed = r.getRunCount() - failed;
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
