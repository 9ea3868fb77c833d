/**
 * The one place where head services are wired in: import a module here that calls `registerHeadService(...)`.
 * The head imports this file at start-up, so a service added here starts with every head (CLI and embedded).
 */
import '../jobs/service.js'; // gRPC job API (daemon/jobs), port from DHTS_JOBS_PORT or a free one
