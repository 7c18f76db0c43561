-- Title ↔ genre (many-to-many): one row per genre of each title.

select
    title_key,
    genre_id

from {{ ref('int_movies__title_genres') }}
