using Microsoft.EntityFrameworkCore.Migrations;
using NodaTime;

#nullable disable

namespace Djag.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RetryScheduling : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_runs_state",
                schema: "djag",
                table: "runs");

            migrationBuilder.DropCheckConstraint(
                name: "ck_runs_dispatched_at",
                schema: "djag",
                table: "runs");

            migrationBuilder.DropCheckConstraint(
                name: "ck_runs_origin",
                schema: "djag",
                table: "runs");

            migrationBuilder.DropCheckConstraint(
                name: "ck_runs_state",
                schema: "djag",
                table: "runs");

            migrationBuilder.AddColumn<Instant>(
                name: "not_before",
                schema: "djag",
                table: "runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_runs_state",
                schema: "djag",
                table: "runs",
                column: "state",
                filter: "state IN ('scheduled', 'dispatched', 'running')");

            migrationBuilder.AddCheckConstraint(
                name: "ck_runs_dispatched_at",
                schema: "djag",
                table: "runs",
                sql: "dispatched_at IS NOT NULL OR state IN ('scheduled', 'skipped', 'coalesced')");

            migrationBuilder.AddCheckConstraint(
                name: "ck_runs_not_before",
                schema: "djag",
                table: "runs",
                sql: "(state = 'scheduled') = (not_before IS NOT NULL)");

            migrationBuilder.AddCheckConstraint(
                name: "ck_runs_origin",
                schema: "djag",
                table: "runs",
                sql: "origin IN ('cron', 'manual', 'backfill', 'retry')");

            migrationBuilder.AddCheckConstraint(
                name: "ck_runs_state",
                schema: "djag",
                table: "runs",
                sql: "state IN ('scheduled', 'dispatched', 'running', 'finished', 'skipped', 'coalesced')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_runs_state",
                schema: "djag",
                table: "runs");

            migrationBuilder.DropCheckConstraint(
                name: "ck_runs_dispatched_at",
                schema: "djag",
                table: "runs");

            migrationBuilder.DropCheckConstraint(
                name: "ck_runs_not_before",
                schema: "djag",
                table: "runs");

            migrationBuilder.DropCheckConstraint(
                name: "ck_runs_origin",
                schema: "djag",
                table: "runs");

            migrationBuilder.DropCheckConstraint(
                name: "ck_runs_state",
                schema: "djag",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "not_before",
                schema: "djag",
                table: "runs");

            migrationBuilder.CreateIndex(
                name: "ix_runs_state",
                schema: "djag",
                table: "runs",
                column: "state",
                filter: "state IN ('dispatched', 'running')");

            migrationBuilder.AddCheckConstraint(
                name: "ck_runs_dispatched_at",
                schema: "djag",
                table: "runs",
                sql: "dispatched_at IS NOT NULL OR state IN ('skipped', 'coalesced')");

            migrationBuilder.AddCheckConstraint(
                name: "ck_runs_origin",
                schema: "djag",
                table: "runs",
                sql: "origin IN ('cron', 'manual', 'backfill')");

            migrationBuilder.AddCheckConstraint(
                name: "ck_runs_state",
                schema: "djag",
                table: "runs",
                sql: "state IN ('dispatched', 'running', 'finished', 'skipped', 'coalesced')");
        }
    }
}
