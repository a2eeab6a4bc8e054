//! The mail outbox: messages written in the transaction of the action that caused them and
//! sent later by the mail worker, with their attachments (the ICS of a booking).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    DedupeKey,
    Recipient,
    Subject,
    BodyText,
    BodyHtml,
    Lang,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    SentAt,
    LastError,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MailAttachment {
    Table,
    Id,
    OutboxId,
    Filename,
    ContentType,
    Content,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(pk_auto(MailOutbox::Id))
                    // why: an event enqueued twice (a retried request, a re-run job) is one message.
                    .col(string_uniq(MailOutbox::DedupeKey))
                    .col(string(MailOutbox::Recipient))
                    .col(string(MailOutbox::Subject))
                    .col(text(MailOutbox::BodyText))
                    .col(text_null(MailOutbox::BodyHtml))
                    .col(string(MailOutbox::Lang))
                    .col(string(MailOutbox::Status))
                    .col(integer(MailOutbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(MailOutbox::LockedUntil))
                    .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                    .col(text_null(MailOutbox::LastError))
                    .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_outbox_due")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::Status)
                    .col(MailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MailAttachment::Table)
                    .col(pk_auto(MailAttachment::Id))
                    .col(integer(MailAttachment::OutboxId))
                    .col(string(MailAttachment::Filename))
                    .col(string(MailAttachment::ContentType))
                    .col(blob(MailAttachment::Content))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mail_attachment_outbox")
                            .from(MailAttachment::Table, MailAttachment::OutboxId)
                            .to(MailOutbox::Table, MailOutbox::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_attachment_outbox")
                    .table(MailAttachment::Table)
                    .col(MailAttachment::OutboxId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MailAttachment::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MailOutbox::Table).to_owned())
            .await
    }
}
