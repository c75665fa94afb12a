namespace Djag.Persistence;
