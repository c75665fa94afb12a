namespace Djag.Scheduling;
