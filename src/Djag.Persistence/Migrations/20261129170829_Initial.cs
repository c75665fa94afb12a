using Microsoft.EntityFrameworkCore.Migrations;
using NodaTime;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Djag.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "djag");

            migrationBuilder.CreateSequence(
                name: "event_marks",
                schema: "djag");

            migrationBuilder.CreateTable(
                name: "crontabs",
                schema: "djag",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    second = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, defaultValue: "0"),
                    minute = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    hour = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    day_of_month = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    month_of_year = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    day_of_week = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    timezone = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_crontabs", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "user_action_audits",
                schema: "djag",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    action = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    payload = table.Column<string>(type: "jsonb", nullable: false),
                    create_dt = table.Column<Instant>(type: "timestamp with time zone", nullable: false),
                    delete_dt = table.Column<Instant>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_user_action_audits", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "user_actions",
                schema: "djag",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    action = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    payload = table.Column<string>(type: "jsonb", nullable: false),
                    create_dt = table.Column<Instant>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_user_actions", x => x.id);
                    table.CheckConstraint("ck_user_actions_action", "action ~ '^[A-Z_]{1,64}$'");
                });

            migrationBuilder.CreateTable(
                name: "periodic_tasks",
                schema: "djag",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    task = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    crontab_id = table.Column<long>(type: "bigint", nullable: false),
                    cron_base = table.Column<Instant>(type: "timestamp with time zone", nullable: false),
                    args = table.Column<string>(type: "jsonb", nullable: false, defaultValueSql: "'[]'::jsonb"),
                    kwargs = table.Column<string>(type: "jsonb", nullable: false, defaultValueSql: "'{}'::jsonb"),
                    queue = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, defaultValue: "default"),
                    priority = table.Column<int>(type: "integer", nullable: false),
                    headers = table.Column<string>(type: "jsonb", nullable: false, defaultValueSql: "'{}'::jsonb"),
                    enabled = table.Column<bool>(type: "boolean", nullable: false),
                    skip_misfire = table.Column<bool>(type: "boolean", nullable: false),
                    coalesce_misfire = table.Column<bool>(type: "boolean", nullable: false),
                    grace_period = table.Column<int>(type: "integer", nullable: true),
                    max_catchup = table.Column<int>(type: "integer", nullable: true),
                    max_running = table.Column<int>(type: "integer", nullable: true),
                    max_retries = table.Column<int>(type: "integer", nullable: false),
                    retry_backoff = table.Column<int>(type: "integer", nullable: false),
                    timeout = table.Column<int>(type: "integer", nullable: true),
                    description = table.Column<string>(type: "text", nullable: false, defaultValue: ""),
                    date_changed = table.Column<Instant>(type: "timestamp with time zone", nullable: false),
                    running = table.Column<int>(type: "integer", nullable: false, defaultValue: 0),
                    last_cron = table.Column<Instant>(type: "timestamp with time zone", nullable: true),
                    last_cron_start = table.Column<Instant>(type: "timestamp with time zone", nullable: true),
                    last_cron_end = table.Column<Instant>(type: "timestamp with time zone", nullable: true),
                    total_run_count = table.Column<long>(type: "bigint", nullable: false, defaultValue: 0L),
                    cron_pointer = table.Column<Instant>(type: "timestamp with time zone", nullable: true),
                    last_start_mark = table.Column<long>(type: "bigint", nullable: true),
                    last_success_mark = table.Column<long>(type: "bigint", nullable: true),
                    last_completion_mark = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_periodic_tasks", x => x.id);
                    table.CheckConstraint("ck_periodic_tasks_args_array", "jsonb_typeof(args) = 'array'");
                    table.CheckConstraint("ck_periodic_tasks_grace_period", "grace_period IS NULL OR grace_period >= 0");
                    table.CheckConstraint("ck_periodic_tasks_grace_with_policy", "grace_period IS NOT NULL OR NOT (skip_misfire OR coalesce_misfire)");
                    table.CheckConstraint("ck_periodic_tasks_headers_object", "jsonb_typeof(headers) = 'object'");
                    table.CheckConstraint("ck_periodic_tasks_kwargs_object", "jsonb_typeof(kwargs) = 'object'");
                    table.CheckConstraint("ck_periodic_tasks_max_catchup", "max_catchup IS NULL OR max_catchup >= 1");
                    table.CheckConstraint("ck_periodic_tasks_max_running", "max_running IS NULL OR max_running >= 1");
                    table.CheckConstraint("ck_periodic_tasks_name", "length(name) BETWEEN 1 AND 200");
                    table.CheckConstraint("ck_periodic_tasks_one_misfire_policy", "NOT (skip_misfire AND coalesce_misfire)");
                    table.CheckConstraint("ck_periodic_tasks_priority", "priority BETWEEN 0 AND 255");
                    table.CheckConstraint("ck_periodic_tasks_queue", "queue ~ '^[A-Za-z0-9_-]{1,64}$'");
                    table.CheckConstraint("ck_periodic_tasks_retries", "max_retries >= 0 AND retry_backoff >= 0");
                    table.CheckConstraint("ck_periodic_tasks_running", "running >= 0");
                    table.CheckConstraint("ck_periodic_tasks_task", "length(task) BETWEEN 1 AND 200");
                    table.CheckConstraint("ck_periodic_tasks_timeout", "timeout IS NULL OR timeout >= 1");
                    table.ForeignKey(
                        name: "fk_periodic_tasks_crontabs_crontab_id",
                        column: x => x.crontab_id,
                        principalSchema: "djag",
                        principalTable: "crontabs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "runs",
                schema: "djag",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    task_id = table.Column<long>(type: "bigint", nullable: false),
                    cron = table.Column<Instant>(type: "timestamp with time zone", nullable: false),
                    attempt = table.Column<int>(type: "integer", nullable: false),
                    origin = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, defaultValue: "cron"),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    worker = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    dispatched_at = table.Column<Instant>(type: "timestamp with time zone", nullable: true),
                    started_at = table.Column<Instant>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<Instant>(type: "timestamp with time zone", nullable: true),
                    outcome = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    error = table.Column<string>(type: "text", nullable: true),
                    output_tail = table.Column<string>(type: "text", nullable: true),
                    reason = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_runs", x => x.id);
                    table.CheckConstraint("ck_runs_attempt", "attempt >= 1");
                    table.CheckConstraint("ck_runs_dispatched_at", "dispatched_at IS NOT NULL OR state IN ('skipped', 'coalesced')");
                    table.CheckConstraint("ck_runs_origin", "origin IN ('cron', 'manual', 'backfill')");
                    table.CheckConstraint("ck_runs_outcome", "outcome IS NULL OR outcome IN ('success', 'failure', 'lost')");
                    table.CheckConstraint("ck_runs_outcome_when_finished", "(state = 'finished') = (outcome IS NOT NULL)");
                    table.CheckConstraint("ck_runs_state", "state IN ('dispatched', 'running', 'finished', 'skipped', 'coalesced')");
                    table.ForeignKey(
                        name: "fk_runs_periodic_tasks_task_id",
                        column: x => x.task_id,
                        principalSchema: "djag",
                        principalTable: "periodic_tasks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "task_dependencies",
                schema: "djag",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    depender_id = table.Column<long>(type: "bigint", nullable: false),
                    dependee_id = table.Column<long>(type: "bigint", nullable: false),
                    future_depends = table.Column<bool>(type: "boolean", nullable: false),
                    condition = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, defaultValue: "success"),
                    change_dt = table.Column<Instant>(type: "timestamp with time zone", nullable: false),
                    change_mark = table.Column<long>(type: "bigint", nullable: false, defaultValueSql: "nextval('djag.event_marks')")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_task_dependencies", x => x.id);
                    table.CheckConstraint("ck_task_dependencies_condition", "condition IN ('success', 'completion')");
                    table.CheckConstraint("ck_task_dependencies_self_only_future", "depender_id <> dependee_id OR future_depends");
                    table.ForeignKey(
                        name: "fk_task_dependencies_periodic_tasks_dependee_id",
                        column: x => x.dependee_id,
                        principalSchema: "djag",
                        principalTable: "periodic_tasks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_task_dependencies_periodic_tasks_depender_id",
                        column: x => x.depender_id,
                        principalSchema: "djag",
                        principalTable: "periodic_tasks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_periodic_tasks_crontab_id",
                schema: "djag",
                table: "periodic_tasks",
                column: "crontab_id");

            migrationBuilder.CreateIndex(
                name: "ix_periodic_tasks_name",
                schema: "djag",
                table: "periodic_tasks",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_periodic_tasks_task",
                schema: "djag",
                table: "periodic_tasks",
                column: "task");

            migrationBuilder.CreateIndex(
                name: "ix_runs_state",
                schema: "djag",
                table: "runs",
                column: "state",
                filter: "state IN ('dispatched', 'running')");

            migrationBuilder.CreateIndex(
                name: "ix_runs_task_id_cron_attempt",
                schema: "djag",
                table: "runs",
                columns: new[] { "task_id", "cron", "attempt" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_task_dependencies_dependee_id",
                schema: "djag",
                table: "task_dependencies",
                column: "dependee_id");

            migrationBuilder.CreateIndex(
                name: "ix_task_dependencies_depender_id_dependee_id",
                schema: "djag",
                table: "task_dependencies",
                columns: new[] { "depender_id", "dependee_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_user_action_audits_delete_dt",
                schema: "djag",
                table: "user_action_audits",
                column: "delete_dt");

            migrationBuilder.CreateIndex(
                name: "ix_user_actions_create_dt",
                schema: "djag",
                table: "user_actions",
                column: "create_dt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "runs",
                schema: "djag");

            migrationBuilder.DropTable(
                name: "task_dependencies",
                schema: "djag");

            migrationBuilder.DropTable(
                name: "user_action_audits",
                schema: "djag");

            migrationBuilder.DropTable(
                name: "user_actions",
                schema: "djag");

            migrationBuilder.DropTable(
                name: "periodic_tasks",
                schema: "djag");

            migrationBuilder.DropTable(
                name: "crontabs",
                schema: "djag");

            migrationBuilder.DropSequence(
                name: "event_marks",
                schema: "djag");
        }
    }
}
