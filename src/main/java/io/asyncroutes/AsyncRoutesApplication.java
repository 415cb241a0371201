package io.asyncroutes;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** Spring Boot entry point: runs the route bundle standalone (embedded default or the {@code services} profile). */
@SpringBootApplication
public class AsyncRoutesApplication {

    public static void main(String[] args) {
        SpringApplication.run(AsyncRoutesApplication.class, args);
    }
}
